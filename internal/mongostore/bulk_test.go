package mongostore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// FerretDB deadlocks on one update command carrying ~100 updates of existing
// documents; bulkWriteChunked must split them so this finishes.
func TestBulkWriteChunkedUpdatesManyExistingDocuments(t *testing.T) {
	db := testenv.Database(t)
	coll := db.Collection("bulk")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 150
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("d%03d", i)}, {Key: "v", Value: 0}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	models := make([]mongo.WriteModel, n)
	for i := range models {
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: fmt.Sprintf("d%03d", i)}}).
			SetReplacement(bson.D{{Key: "v", Value: i}})
	}
	if err := bulkWriteChunked(ctx, coll, models); err != nil {
		t.Fatalf("bulk update of %d existing documents: %v", n, err)
	}
	for _, i := range []int{0, 39, 40, 149} {
		var got struct {
			V int `bson:"v"`
		}
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("d%03d", i)}}).Decode(&got); err != nil || got.V != i {
			t.Fatalf("d%03d: v = %d, %v; want %d", i, got.V, err, i)
		}
	}
}
