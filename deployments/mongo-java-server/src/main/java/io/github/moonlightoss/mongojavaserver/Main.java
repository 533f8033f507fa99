package io.github.moonlightoss.mongojavaserver;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs mongo-java-server with the H2 MVStore backend on 127.0.0.1 for Moonlight's
 * integration tests.
 *
 * <pre>
 * Main --port 27018 --file /path/to/mongo.mv.db
 * Main --port 27018 --in-memory
 * Main --ping 27018    exits 0 when a server on that port answers {ping: 1} with ok: 1
 * </pre>
 *
 * SIGTERM (or Ctrl-C) closes client connections and the MVStore, so a stop followed
 * by a start keeps every committed write.
 */
public final class Main {
    /** Loopback only: this is a test server without authentication. */
    private static final String HOST = "127.0.0.1";

    /**
     * The version the server reports in hello/isMaster. mongo-java-server 1.47.0 at most
     * claims MongoDB "5.0" with wire version 8, but the Go driver v2.10 refuses servers
     * below wire version 9 (MongoDB 4.4). Its behaviour is unchanged; only the reported
     * numbers differ, and 4.4 is the oldest the driver accepts, so it does not switch on
     * newer protocol features.
     */
    private static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--ping")) {
            System.exit(ping(Integer.parseInt(args[1])) ? 0 : 1);
        }
        int port = 27018;
        Path file = null;
        boolean inMemory = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
                case "--file" -> file = Path.of(value(args, ++i, "--file"));
                case "--in-memory" -> inMemory = true;
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (inMemory == (file != null)) {
            usage("give exactly one of --file or --in-memory");
        }

        H2Backend backend;
        if (inMemory) {
            backend = H2Backend.inMemory();
        } else {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            backend = new H2Backend(file.toString());
        }
        backend.version(REPORTED_VERSION);

        MongoServer server = new MongoServer(backend);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // shutdownNow also closes the backend, which commits and closes the MVStore.
            server.shutdownNow();
            stopped.countDown();
            System.out.println("mongo-java-server stopped");
        }, "mongo-java-server-shutdown"));

        try {
            server.bind(HOST, port);
        } catch (RuntimeException e) {
            System.err.println("mongo-java-server: cannot listen on " + HOST + ":" + port + ": " + e);
            System.exit(1);
        }
        // The start script waits for this line.
        System.out.println("mongo-java-server listening on " + HOST + ":" + port
                + " (" + (inMemory ? "in memory" : file) + ")");
        stopped.await();
    }

    /**
     * Sends {ping: 1, $db: "admin"} as an OP_MSG and reports whether the reply holds
     * ok: 1. The start script uses it, because an open port alone does not prove that
     * the server speaks the protocol yet.
     */
    private static boolean ping(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 2000);
            socket.setSoTimeout(3000);
            byte[] body = pingDocument();
            ByteBuffer msg = ByteBuffer.allocate(16 + 4 + 1 + body.length).order(ByteOrder.LITTLE_ENDIAN);
            msg.putInt(msg.capacity()).putInt(1).putInt(0).putInt(2013); // header, opCode OP_MSG
            msg.putInt(0).put((byte) 0).put(body); // flagBits, section kind 0, document
            socket.getOutputStream().write(msg.array());

            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] lengthBytes = new byte[4];
            in.readFully(lengthBytes);
            int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (length < 21 || length > 1 << 20) {
                return false;
            }
            byte[] reply = new byte[length - 4];
            in.readFully(reply);
            return containsOk(reply);
        } catch (IOException e) {
            return false;
        }
    }

    private static byte[] pingDocument() {
        ByteArrayOutputStream elements = new ByteArrayOutputStream();
        elements.write(0x10); // int32
        elements.writeBytes("ping\0".getBytes(StandardCharsets.UTF_8));
        elements.writeBytes(new byte[] {1, 0, 0, 0});
        elements.write(0x02); // string
        elements.writeBytes("$db\0".getBytes(StandardCharsets.UTF_8));
        elements.writeBytes(new byte[] {6, 0, 0, 0});
        elements.writeBytes("admin\0".getBytes(StandardCharsets.UTF_8));
        elements.write(0); // end of document
        byte[] e = elements.toByteArray();
        return ByteBuffer.allocate(4 + e.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(4 + e.length).put(e).array();
    }

    /** Looks for the element ok: 1.0 (double) or ok: 1 (int32) in the raw reply. */
    private static boolean containsOk(byte[] reply) {
        byte[] okDouble = {0x01, 'o', 'k', 0, 0, 0, 0, 0, 0, 0, (byte) 0xf0, 0x3f};
        byte[] okInt = {0x10, 'o', 'k', 0, 1, 0, 0, 0};
        return indexOf(reply, okDouble) >= 0 || indexOf(reply, okInt) >= 0;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            usage(flag + " needs a value");
        }
        return args[i];
    }

    private static void usage(String problem) {
        System.err.println("mongo-java-server: " + problem);
        System.err.println("usage: Main --port N (--file PATH | --in-memory)");
        System.exit(2);
    }
}
