using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// ArgMax/ArgMin over the middle axis of a [outer, reduced, inner] block. NaN counts as the extreme value
/// (the first NaN wins, or the last with select_last_index), as NumPy's argmax/argmin do.
/// </summary>
internal static class ArgLoops
{
    public static void Rows<T>(ReadOnlySpan<T> source, Span<long> destination, int o0, int o1, int reduced, int inner,
        bool isMax, bool selectLast, Span<T> best)
        where T : unmanaged, INumber<T>
    {
        int block = reduced * inner;
        for (int o = o0; o < o1; o++)
        {
            var rows = source.Slice(o * block, block);
            var indices = destination.Slice(o * inner, inner);
            if (inner == 1)
            {
                indices[0] = selectLast ? (isMax ? ScanMax(rows, true) : ScanMin(rows, true)) : FirstExtreme(rows, isMax);
                continue;
            }

            rows.Slice(0, inner).CopyTo(best);
            indices.Clear();
            for (int j = 1; j < reduced; j++)
            {
                var row = rows.Slice(j * inner, inner);
                for (int c = 0; c < inner; c++)
                {
                    if (Better(row[c], best[c], isMax, selectLast))
                    {
                        best[c] = row[c];
                        indices[c] = j;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The vectorised search, which returns the first extreme (or first NaN) as NumPy does, except that it ranks
    /// +0 above -0; NumPy treats them as equal, so a zero result is moved to the first zero of either sign.
    /// </summary>
    private static int FirstExtreme<T>(ReadOnlySpan<T> row, bool isMax) where T : unmanaged, INumber<T>
    {
        int index = isMax ? TensorPrimitives.IndexOfMax(row) : TensorPrimitives.IndexOfMin(row);
        if (T.IsZero(row[index]) && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            for (int j = 0; j < index; j++)
            {
                if (T.IsZero(row[j]))
                {
                    return j;
                }
            }
        }

        return index;
    }

    private static int ScanMax<T>(ReadOnlySpan<T> row, bool selectLast) where T : unmanaged, INumber<T>
    {
        T best = row[0];
        int index = 0;
        if (T.IsNaN(best) && !selectLast)
        {
            return 0;
        }

        for (int j = 1; j < row.Length; j++)
        {
            T v = row[j];
            if (v > best || (selectLast && v == best))
            {
                best = v;
                index = j;
            }
            else if (T.IsNaN(v))
            {
                if (!selectLast)
                {
                    return j;
                }

                best = v;
                index = j;
            }
        }

        return index;
    }

    private static int ScanMin<T>(ReadOnlySpan<T> row, bool selectLast) where T : unmanaged, INumber<T>
    {
        T best = row[0];
        int index = 0;
        if (T.IsNaN(best) && !selectLast)
        {
            return 0;
        }

        for (int j = 1; j < row.Length; j++)
        {
            T v = row[j];
            if (v < best || (selectLast && v == best))
            {
                best = v;
                index = j;
            }
            else if (T.IsNaN(v))
            {
                if (!selectLast)
                {
                    return j;
                }

                best = v;
                index = j;
            }
        }

        return index;
    }

    private static bool Better<T>(T v, T best, bool isMax, bool selectLast) where T : unmanaged, INumber<T>
    {
        if (T.IsNaN(best))
        {
            return selectLast && T.IsNaN(v);
        }

        if (T.IsNaN(v))
        {
            return true;
        }

        return isMax ? v > best || (selectLast && v == best) : v < best || (selectLast && v == best);
    }
}
