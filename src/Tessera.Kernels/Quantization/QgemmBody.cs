using System.Runtime.Intrinsics;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>One block of the integer GEMM: pack A's rows, then run the micro-kernel over a share of B's panels.</summary>
internal readonly unsafe struct QgemmBody<TRows> : IRangeBody
    where TRows : struct, IQgemmRows
{
    // Each thread's packing buffers, grown on demand and kept (pinned: the kernels read them through pointers).
    [ThreadStatic]
    private static byte[]? t_bytes;

    [ThreadStatic]
    private static byte[]? t_wide;

    private readonly int _m;
    private readonly int _blockRows;
    private readonly QgemmPackedB _b;
    private readonly TRows _rows;
    private readonly QgemmOutput _output;
    private readonly int _panelSplit;

    public QgemmBody(int m, int blockRows, QgemmPackedB b, TRows rows, QgemmOutput output, int panelSplit)
    {
        _m = m;
        _blockRows = blockRows;
        _b = b;
        _rows = rows;
        _output = output;
        _panelSplit = panelSplit;
    }

    public void Invoke(int start, int end)
    {
        var config = _b.Config;
        int mr = config.Mr;
        int k = _b.K;
        int ld = _b.KPadded;
        int groups = ld / config.KGroup;
        int* sums = stackalloc int[Qgemm.RowBlock];
        int* tile = stackalloc int[mr * QgemmConfig.Nr];
        int bufferRows = (Qgemm.RowBlock + mr - 1) / mr * mr;
        byte* bytes = Buffer(ref t_bytes, bufferRows * ld);
        byte* wide = config.ElementSize == 2 ? Buffer(ref t_wide, bufferRows * ld * 2) : null;
        for (int job = start; job < end; job++)
        {
            int row = job / _panelSplit * _blockRows;
            int share = job % _panelSplit;
            int count = Math.Min(_blockRows, _m - row);
            int padded = (count + mr - 1) / mr * mr;
            _rows.Pack(row, count, bytes, ld, sums);

            // Pack writes K bytes per row: zero only what the kernel reads beyond them (the K padding, the rows up to Mr).
            if (ld > k)
            {
                for (int r = 0; r < count; r++) new Span<byte>(bytes + ((long)r * ld) + k, ld - k).Clear();
            }

            new Span<byte>(bytes + ((long)count * ld), (padded - count) * ld).Clear();
            byte* a = bytes;
            nint lda = ld;
            if (wide is not null)
            {
                Widen(bytes, (ushort*)wide, padded * ld);
                a = wide;
                lda = ld * 2;
            }

            int firstPanel = share * _b.Panels / _panelSplit;
            int lastPanel = (share + 1) * _b.Panels / _panelSplit;
            for (int p = firstPanel; p < lastPanel; p++)
            {
                byte* panel = _b.Panel(p);
                int col = p * QgemmConfig.Nr;
                int cols = Math.Min(QgemmConfig.Nr, _b.N - col);
                for (int r = 0; r < count; r += mr)
                {
                    config.Kernel(a + (r * lda), lda, panel, groups, tile);
                    _output.Store(tile, row + r, Math.Min(mr, count - r), col, cols, sums + r);
                }
            }
        }

        GC.KeepAlive(_b);
    }

    // Zero-extends A's bytes to the 16-bit values the AVX2 and Vector128 kernels read: a pass over every packed byte
    // per block, so 16 at a time rather than one.
    private static void Widen(byte* source, ushort* destination, int count)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= count - 16; i += 16)
            {
                var (lower, upper) = Vector128.Widen(Vector128.Load(source + i));
                lower.Store(destination + i);
                upper.Store(destination + i + 8);
            }
        }

        for (; i < count; i++) destination[i] = source[i];
    }

    private static byte* Buffer(ref byte[]? buffer, int size)
    {
        if (buffer is null || buffer.Length < size)
        {
            buffer = GC.AllocateUninitializedArray<byte>(Math.Max(size, 1 << 16), pinned: true);
        }

        return (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(buffer));
    }
}
