using System.Numerics;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// Finds the k best entries of one strided row in <see cref="TopKOrder{T}"/>. Small k streams the row past a
/// bounded heap of the best seen so far (O(n log k), and most elements cost one comparison with the heap's
/// worst); large k sorts the whole row.
/// </summary>
internal static class TopKSelector
{
    /// <summary>Leaves the k best of source[start + j * stride], j in [0, n), sorted at the front of <paramref name="scratch"/> (length >= n).</summary>
    public static void Select<T>(ReadOnlySpan<T> source, int start, int n, int stride, int k, bool largest, Span<TopKEntry<T>> scratch)
        where T : unmanaged, INumber<T>
    {
        var order = new TopKOrder<T>(largest);
        if (k == 0)
        {
            return;
        }

        if (k * 4L > n || k > 4096)
        {
            for (int j = 0; j < n; j++)
            {
                scratch[j] = new TopKEntry<T> { Value = source[start + j * stride], Index = j };
            }

            scratch.Slice(0, n).Sort(order);
            return;
        }

        // Heap of the k best so far with the worst of them at the root.
        var heap = scratch.Slice(0, k);
        for (int j = 0; j < k; j++)
        {
            heap[j] = new TopKEntry<T> { Value = source[start + j * stride], Index = j };
        }

        for (int i = k / 2 - 1; i >= 0; i--)
        {
            SiftDown(heap, i, order);
        }

        // A later element has a higher index, so it only enters on a strictly better value (a number beats NaN).
        T worst = heap[0].Value;
        bool worstIsNaN = T.IsNaN(worst);
        for (int j = k; j < n; j++)
        {
            T v = source[start + j * stride];
            bool better = largest ? v > worst : v < worst;
            if (better || (worstIsNaN && !T.IsNaN(v)))
            {
                heap[0] = new TopKEntry<T> { Value = v, Index = j };
                SiftDown(heap, 0, order);
                worst = heap[0].Value;
                worstIsNaN = T.IsNaN(worst);
            }
        }

        heap.Sort(order);
    }

    private static void SiftDown<T>(Span<TopKEntry<T>> heap, int i, TopKOrder<T> order) where T : unmanaged, INumber<T>
    {
        var item = heap[i];
        int count = heap.Length;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count)
            {
                break;
            }

            // Follow the worse child: the one that sorts later.
            if (child + 1 < count && order.Compare(heap[child + 1], heap[child]) > 0)
            {
                child++;
            }

            if (order.Compare(heap[child], item) <= 0)
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = item;
    }
}
