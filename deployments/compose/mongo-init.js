// Initiates replica set rs0 of the three compose members, once.
try {
  rs.status();
  print("replica set rs0 already initiated");
} catch (e) {
  rs.initiate({
    _id: "rs0",
    members: [
      { _id: 0, host: "mongo1:27017" },
      { _id: 1, host: "mongo2:27017" },
      { _id: 2, host: "mongo3:27017" },
    ],
  });
}
for (let i = 0; i < 60 && !db.hello().isWritablePrimary && !db.hello().primary; i++) {
  sleep(1000);
}
print("primary: " + db.hello().primary);
