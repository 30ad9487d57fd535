package dev.refusaltokens.eval.config;

/**
 * A frontier measured across two benchmarks: refusal rate on the should-refuse prompts of
 * {@code refusal}, false-refusal rate on the should-answer prompts of {@code answer}.
 */
public record FrontierPair(String refusal, String answer) implements java.io.Serializable {}
