package dev.irtj.train.loss;

import dev.irtj.train.loss.ContrastiveLoss.Reduction;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The loss's options: defaults, and one clear line for each bad setting. */
class ContrastiveLossOptionsTest {

    @Test
    void theDefaultIsEquationOneWithWeightOne() {
        ContrastiveLoss loss = new ContrastiveLoss(0.5);
        assertEquals(Reduction.PAPER, loss.reduction());
        assertEquals(1.0, loss.memoryWeight());
        assertEquals(1.0, new ContrastiveLoss(0.5, Reduction.XBM).memoryWeight());
    }

    @Test
    void badSettingsAreRefusedNamingTheSetting() {
        assertEquals("contrastive margin beta must be a cosine similarity in [-1, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> new ContrastiveLoss(1.5)).getMessage());
        assertEquals("contrastive loss needs a reduction (paper, pml or xbm)",
                assertThrows(IllegalArgumentException.class, () -> new ContrastiveLoss(0.5, null)).getMessage());
        assertEquals("contrastive memory weight must be finite and >= 0, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new ContrastiveLoss(0.5, Reduction.PML, -1)).getMessage());
        assertEquals("contrastive memory weight must be finite and >= 0, got NaN",
                assertThrows(IllegalArgumentException.class, () -> new ContrastiveLoss(0.5, Reduction.PML, Double.NaN)).getMessage());
    }
}
