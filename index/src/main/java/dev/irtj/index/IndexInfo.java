package dev.irtj.index;

/**
 * What an index holds.
 *
 * @param fingerprint the {@code ImageDescriber} fingerprint of every vector in it
 * @param describer that describer's one-line description, for messages
 * @param dims descriptor length
 * @param count number of images
 */
public record IndexInfo(String fingerprint, String describer, int dims, long count) {
}
