package dev.refusaltokens.eval.config;

/**
 * A configuration error found before any Spark work. The message names the key, the value and the
 * fix; {@code Main} turns it into exit code 2.
 */
public class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /** "Config key 'k' = 'v' …: fix". */
  public static ConfigException badValue(String key, Object value, String problem, String fix) {
    return new ConfigException(
        "Config key '" + key + "' = '" + value + "' " + problem + "; " + fix);
  }
}
