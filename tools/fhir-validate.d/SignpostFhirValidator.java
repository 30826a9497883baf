// Validates FHIR R4 JSON resources with HAPI FHIR's instance validator, offline, against the base
// R4 specification only, in one JVM for every file.
//
//   SignpostFhirValidator [--warnings] FILE|DIR...
//
// A FILE must be one FHIR resource (a JSON object with a top-level resourceType; a Bundle counts as
// one resource and is validated with everything in it). A DIR is walked for *.json files, and
// those without a top-level resourceType are skipped, so a folder of mixed JSON can be given.
// Each ERROR and FATAL message is printed as FILE:LINE:COL: SEVERITY LOCATION: MESSAGE (WARNINGs
// too with --warnings), then one line "N resources, E errors, W warnings".
// Exit status: 0 no errors, 1 an error or fatal in some resource, 2 bad arguments or unreadable
// paths.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

public final class SignpostFhirValidator {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A file to validate, or the reason it cannot be. */
  private record Input(Path path, String text, String problem) {}

  public static void main(String[] args) {
    boolean printWarnings = false;
    List<Path> roots = new ArrayList<>();
    for (String arg : args) {
      if (arg.equals("--warnings")) {
        printWarnings = true;
      } else if (arg.startsWith("-")) {
        usage("unknown option '" + arg + "'");
      } else {
        roots.add(Path.of(arg));
      }
    }
    if (roots.isEmpty()) {
      usage("no FILE or DIR given");
    }

    List<Input> inputs = new ArrayList<>();
    int skipped = 0;
    for (Path root : roots) {
      if (Files.isDirectory(root)) {
        for (Path file : jsonFilesUnder(root)) {
          Input input = read(file);
          // In a folder, JSON that is not a FHIR resource (package.json, ORUK data) is not ours.
          if (input.problem() != null) {
            skipped++;
          } else {
            inputs.add(input);
          }
        }
      } else if (Files.isRegularFile(root)) {
        inputs.add(read(root)); // named on its own: it must be a FHIR resource
      } else {
        System.err.println("fhir-validate: no such file or directory: " + root);
        System.exit(2);
      }
    }

    FhirValidator validator = newValidator();
    int errors = 0;
    int warnings = 0;
    for (Input input : inputs) {
      if (input.problem() != null) {
        System.out.println(input.path() + ": ERROR " + input.problem());
        errors++;
        continue;
      }
      ValidationResult result = validator.validateWithResult(input.text());
      for (SingleValidationMessage m : result.getMessages()) {
        ResultSeverityEnum severity = m.getSeverity();
        boolean isError =
            severity == ResultSeverityEnum.ERROR || severity == ResultSeverityEnum.FATAL;
        boolean isWarning = severity == ResultSeverityEnum.WARNING;
        if (isError) {
          errors++;
        }
        if (isWarning) {
          warnings++;
        }
        if (isError || (isWarning && printWarnings)) {
          System.out.println(input.path() + ":" + orZero(m.getLocationLine()) + ":"
              + orZero(m.getLocationCol()) + ": " + severity.name() + " " + m.getLocationString()
              + ": " + m.getMessage());
        }
      }
    }
    if (skipped > 0) {
      System.out.println("skipped " + skipped + " .json file(s) that are not FHIR resources"
          + " (no top-level resourceType)");
    }
    System.out.println(
        inputs.size() + " resources, " + errors + " errors, " + warnings + " warnings");
    System.exit(errors > 0 ? 1 : 0);
  }

  /**
   * Base R4 only: the specification's own profiles, value sets and code systems, with common
   * external code systems (UCUM, ISO languages, MIME types, ...) checked in memory. Nothing is
   * fetched over the network, so the same run gives the same answer on any machine.
   */
  private static FhirValidator newValidator() {
    FhirContext context = FhirContext.forR4();
    ValidationSupportChain chain =
        new ValidationSupportChain(new DefaultProfileValidationSupport(context),
            new CommonCodeSystemsTerminologyService(context),
            new InMemoryTerminologyServerValidationSupport(context),
            new SnapshotGeneratingValidationSupport(context));
    // FhirInstanceValidator's defaults: any extension is allowed, an unknown meta.profile is an
    // error (nothing Signpost emits may claim a profile that cannot be checked here).
    return context.newValidator().registerValidatorModule(new FhirInstanceValidator(chain));
  }

  private static List<Path> jsonFilesUnder(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".json"))
          .sorted()
          .toList();
    } catch (IOException e) {
      System.err.println("fhir-validate: cannot read " + dir + ": " + e.getMessage());
      System.exit(2);
      return List.of();
    }
  }

  private static Input read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return new Input(file, null, "cannot read the file: " + e.getMessage());
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (IOException e) {
      return new Input(file, null, "not JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null || !root.isObject() || !root.path("resourceType").isTextual()) {
      return new Input(file, null, "not a FHIR resource: no top-level resourceType");
    }
    return new Input(file, text, null);
  }

  private static int orZero(Integer value) {
    return value == null ? 0 : value;
  }

  private static void usage(String problem) {
    System.err.println("fhir-validate: " + problem);
    System.err.println("usage: tools/fhir-validate [--warnings] FILE|DIR...");
    System.exit(2);
  }
}
