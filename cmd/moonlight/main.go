// Command moonlight runs the Moonlight service: `demo` (everything embedded),
// `serve` (production), `token`, `produce` and `rescan`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "moonlight:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	root := rootCommand(environ, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
