package dev.refusaltokens.eval.respond;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The deterministic sample of {@code responses.sample}: a prompt is in it iff the first 8 bytes of
 * SHA-256({@code benchmark + "\n" + prompt_id}), read as an unsigned fraction of 2^64, are below
 * the sample fraction. The same prompts in every run and every language, independent of partitions,
 * and nested: a prompt in the 10 % sample is in the 20 % sample too.
 */
final class ResponseSample {

  private ResponseSample() {}

  static boolean contains(String benchmark, String promptId, double fraction) {
    if (fraction >= 1.0) {
      return true;
    }
    return position(benchmark, promptId) < fraction;
  }

  /** The prompt's place in [0, 1). */
  static double position(String benchmark, String promptId) {
    byte[] h;
    try {
      h =
          MessageDigest.getInstance("SHA-256")
              .digest((benchmark + "\n" + promptId).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long top = 0;
    for (int i = 0; i < 8; i++) {
      top = (top << 8) | (h[i] & 0xff);
    }
    // the top 53 bits as a double in [0, 1)
    return (top >>> 11) * 0x1.0p-53;
  }
}
