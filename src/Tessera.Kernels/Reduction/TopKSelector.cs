using System.Numerics;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// Puts the k best entries of a row, in <see cref="TopKOrder{T}"/>, at its front. Small k keeps a bounded
/// heap of the best seen so far (O(n log k)); large k sorts the whole row.
/// </summary>
internal static class TopKSelector
{
    public static void Select<T>(Span<TopKEntry<T>> entries, int k, bool largest) where T : unmanaged, INumber<T>
    {
        var order = new TopKOrder<T>(largest);
        int n = entries.Length;
        if (k == 0)
        {
            return;
        }

        if (k * 4L > n || k > 4096)
        {
            entries.Sort(order);
            return;
        }

        // Heap of the k best so far with the worst of them at the root.
        var heap = entries.Slice(0, k);
        for (int i = k / 2 - 1; i >= 0; i--)
        {
            SiftDown(heap, i, order);
        }

        for (int i = k; i < n; i++)
        {
            if (order.Compare(entries[i], heap[0]) < 0)
            {
                heap[0] = entries[i];
                SiftDown(heap, 0, order);
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

            // Pick the worse child: the one that sorts later.
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
