using System.Numerics;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// The order TopK emits: best value first (largest or smallest), equal values by lower index, NaN after
/// every number in either direction.
/// </summary>
internal readonly struct TopKOrder<T>(bool largest) : IComparer<TopKEntry<T>> where T : unmanaged, INumber<T>
{
    public int Compare(TopKEntry<T> a, TopKEntry<T> b)
    {
        T x = a.Value, y = b.Value;
        if (x < y)
        {
            return largest ? 1 : -1;
        }

        if (x > y)
        {
            return largest ? -1 : 1;
        }

        if (x != y)
        {
            // At least one NaN (x == y failed without < or >).
            bool xNaN = T.IsNaN(x), yNaN = T.IsNaN(y);
            if (xNaN != yNaN)
            {
                return xNaN ? 1 : -1;
            }
        }

        return a.Index.CompareTo(b.Index);
    }
}
