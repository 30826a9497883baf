// Creates the Signpost topics on a Kafka cluster through the Admin API, waiting first until the
// cluster answers with the expected number of brokers. Run by tools/kafka as a single-file source
// program: java -cp 'JARS/*' SignpostTopics.java --bootstrap B --topics proto/signpost/v1/topics.tsv
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public class SignpostTopics {
  public static void main(String[] args) throws Exception {
    String bootstrap = null, topicsFile = null, prefix = "";
    int brokers = 1, replication = 1, minIsr = 1;
    long waitMs = 60000;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--bootstrap" -> bootstrap = args[i + 1];
        case "--topics" -> topicsFile = args[i + 1];
        case "--prefix" -> prefix = args[i + 1];
        case "--brokers" -> brokers = Integer.parseInt(args[i + 1]);
        case "--replication" -> replication = Integer.parseInt(args[i + 1]);
        case "--min-isr" -> minIsr = Integer.parseInt(args[i + 1]);
        case "--wait-ms" -> waitMs = Long.parseLong(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (bootstrap == null || topicsFile == null) {
      System.err.println("usage: SignpostTopics --bootstrap HOST:PORT --topics FILE [--prefix P]"
          + " [--brokers N] [--replication R] [--min-isr M] [--wait-ms MS]");
      System.exit(2);
    }
    List<NewTopic> topics = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(topicsFile))) {
      if (line.isBlank() || line.startsWith("#")) continue;
      String[] f = line.split("\t");
      Map<String, String> cfg = new HashMap<>();
      cfg.put("cleanup.policy", f[2]);
      cfg.put("retention.ms", f[3]);
      cfg.put("min.insync.replicas", Integer.toString(minIsr));
      if (f[2].equals("compact")) {
        // Compaction runs on closed segments: roll often so a tombstone takes effect soon.
        cfg.put("segment.ms", "600000");
        cfg.put("min.cleanable.dirty.ratio", "0.1");
      }
      topics.add(new NewTopic(prefix + f[0], Integer.parseInt(f[1]), (short) replication).configs(cfg));
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    try (Admin admin = Admin.create(props)) {
      long deadline = System.currentTimeMillis() + waitMs;
      while (true) {
        try {
          int seen = admin.describeCluster().nodes().get().size();
          if (seen >= brokers) break;
        } catch (ExecutionException e) {
          // Not answering yet: keep waiting until the deadline.
        }
        if (System.currentTimeMillis() > deadline) {
          System.err.println("kafka at " + bootstrap + " did not show " + brokers + " broker(s) in time");
          System.exit(1);
        }
        Thread.sleep(200);
      }
      int created = 0, existed = 0;
      var result = admin.createTopics(topics);
      for (var entry : result.values().entrySet()) {
        try {
          entry.getValue().get();
          created++;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof TopicExistsException) {
            existed++;
          } else {
            System.err.println("creating " + entry.getKey() + ": " + e.getCause().getMessage());
            System.exit(1);
          }
        }
      }
      // The controller has them; the broker that answers a listing may learn of them a moment
      // later (every node of a cluster keeps its own copy of the metadata).
      while (true) {
        Set<String> names = admin.listTopics().names().get();
        String missing = null;
        for (NewTopic t : topics) {
          if (!names.contains(t.name())) missing = t.name();
        }
        if (missing == null) break;
        if (System.currentTimeMillis() > deadline) {
          System.err.println("topic " + missing + " is not listed after creation");
          System.exit(1);
        }
        Thread.sleep(200);
      }
      System.out.println("topics: " + created + " created, " + existed + " already there");
    }
  }
}
