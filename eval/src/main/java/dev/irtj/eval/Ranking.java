package dev.irtj.eval;

/** The ranking order shared by every class of this package (see the package documentation). */
final class Ranking {
    private Ranking() {
    }

    /**
     * True when the item (sa, ia) ranks strictly before (sb, ib): larger similarity first, the
     * smaller index first at equal similarity, NaN after every number.
     */
    static boolean before(float sa, int ia, float sb, int ib) {
        if (sa > sb) return true;
        if (sa < sb) return false;
        if (sa == sb) return ia < ib;
        boolean nanA = sa != sa, nanB = sb != sb;
        if (nanA && nanB) return ia < ib;
        return nanB;
    }
}
