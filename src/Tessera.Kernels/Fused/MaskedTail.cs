using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>
/// The contract between a causal attention's Q·Kᵀ and the FusedScaleMaskSoftmax after it (the causal-attention pass
/// joins them): per row of the additive mask M [.., m, n], the columns the row keeps — up to its last value above
/// <see cref="MaskedBelow"/>, rounded up to <see cref="Block"/> — or n. Q·Kᵀ computes only those columns; the softmax
/// reads only those and writes +0 to the rest, which is what the whole row gives them, bit for bit, when
/// (1) every kept mask value is within ±<see cref="Moderate"/> (so the kept max is finite and above -2·Moderate),
/// (2) every score's magnitude times the softmax's scale is at most <see cref="Moderate"/> (the product knows its
/// bound: K·255²·x_scale·w_scale), so a dropped column's x·scale + mask is below -9.8e29 and its exp exactly 0, below
/// the kept max; and (3) the kept length is a multiple of <see cref="Block"/>, so the softmax's vector loops give every
/// kept column the lane it has in the whole row and the sums leave out only +0 terms. A row that fails (1) keeps n.
/// </summary>
internal static unsafe class MaskedTail
{
    /// <summary>A kept length is a multiple of this (or the whole row): 16 floats are AVX-512's lanes, two of AVX2's.</summary>
    public const int Block = 16;

    /// <summary>A mask value at or below this drops its column (-inf, float32's lowest: what exporters write).</summary>
    public const float MaskedBelow = -1e30f;

    /// <summary>The largest magnitude of a kept mask value, and of a score times the scale, for which the skip is exact.</summary>
    public const float Moderate = 1e28f;

    /// <summary>
    /// Each of the mask's <paramref name="m"/> rows' kept length into <paramref name="kept"/>; returns whether any row
    /// leaves columns out.
    /// </summary>
    public static bool KeptLengths(float* mask, int m, int n, Span<int> kept)
    {
        bool any = false;
        for (int i = 0; i < m; i++)
        {
            kept[i] = RowKept(mask + ((long)i * n), n);
            any |= kept[i] < n;
        }

        return any;
    }

    // 8 floats at a time where the machine has 256-bit vectors: the mask is [s, s] per attention, read every run.
    private static int RowKept(float* row, int n)
    {
        int last = n - 1;
        if (Vector256.IsHardwareAccelerated)
        {
            var masked = Vector256.Create(MaskedBelow);
            while (last >= 7 && Vector256.LessThanOrEqualAll(Vector256.Load(row + last - 7), masked)) last -= 8;
        }

        while (last >= 0 && row[last] <= MaskedBelow) last--;
        if (last < 0) return n;

        // A NaN fails both tests, so a row holding one keeps everything.
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var moderate = Vector256.Create(Moderate);
            for (; j + 8 <= last + 1; j += 8)
            {
                if (!Vector256.LessThanOrEqualAll(Vector256.Abs(Vector256.Load(row + j)), moderate)) return n;
            }
        }

        for (; j <= last; j++)
        {
            if (!(MathF.Abs(row[j]) <= Moderate)) return n;
        }

        int length = (last + Block) / Block * Block;
        return Math.Min(length, n);
    }
}
