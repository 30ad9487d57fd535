package dev.refusaltokens.eval.model;

import dev.refusaltokens.eval.decide.FirstTokenStats;

/**
 * What one forward pass yields for one prompt: the id of the most probable vocabulary token that is
 * not a control token, and the sufficient statistic at each configured temperature (in config
 * order).
 */
public record PromptScore(long otherTokenId, FirstTokenStats[] perTemperature) {}
