/**
 * Retrieval evaluation on descriptors held in {@link dev.irtj.tensor.Tensor}s.
 *
 * <ul>
 *   <li>{@link dev.irtj.eval.Knn}: exact k nearest neighbours by dot product, as a blocked
 *       matrix product plus a per-row top-k selection;</li>
 *   <li>{@link dev.irtj.eval.Recall}: Recall@K (SOP, CUB, Cars: every sample queries all others;
 *       In-Shop: queries against a separate gallery);</li>
 *   <li>{@link dev.irtj.eval.RevisitedMap}: revisited Oxford/Paris mAP and mP@k (Easy, Medium,
 *       Hard), as the revisitop evaluation computes them, with ground truth from
 *       {@link dev.irtj.eval.GroundTruthFile};</li>
 *   <li>{@link dev.irtj.eval.Pca}: PCA fitted on training descriptors, applied as projection
 *       followed by L2 normalization, with the full eigenvalue spectrum.</li>
 * </ul>
 *
 * <p>Ranking rule, everywhere in this package: a database item ranks before another when its
 * similarity is larger, or, at exactly equal similarity, when its index is smaller; a NaN
 * similarity ranks after every number. Rankings are therefore deterministic and do not depend on
 * how the computation is blocked.
 */
package dev.irtj.eval;
