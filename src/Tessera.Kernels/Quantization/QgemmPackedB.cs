using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The B operand (K x N) of the integer GEMM in panels of <see cref="QgemmConfig.Nr"/> columns, as signed bytes:
/// uint8 B is shifted by -128 (its zero point moves with it, which keeps (b - zb) exact). Within a panel each K group
/// of a column is contiguous (4 bytes for VNNI, 2 widened shorts otherwise); K and N are zero-padded. Also keeps
/// each column's sum of shifted values, which the zero-point correction of the activations needs. A B that changes
/// every run (an activation) is packed again into the same buffer with <see cref="PackFrom"/>.
/// </summary>
internal sealed unsafe class QgemmPackedB
{
    private readonly byte[] _data;

    private QgemmPackedB(QgemmConfig config, int k, int n)
    {
        Config = config;
        K = k;
        N = n;
        KPadded = config.PadK(k);
        Panels = (n + QgemmConfig.Nr - 1) / QgemmConfig.Nr;
        PanelBytes = KPadded * QgemmConfig.Nr * config.ElementSize;
        _data = GC.AllocateArray<byte>((Panels * PanelBytes) + 64, pinned: true);
        ColumnSums = new int[n];
    }

    public QgemmConfig Config { get; }

    public int K { get; }

    public int N { get; }

    public int KPadded { get; }

    public int Panels { get; }

    public int PanelBytes { get; }

    /// <summary>Per column, the sum over K of the shifted (signed) values.</summary>
    public int[] ColumnSums { get; }

    /// <summary>How far <see cref="Pack"/> moved B's values: 0 for int8, -128 for uint8 (subtract from zero points too).</summary>
    public static int Shift(bool signed) => signed ? 0 : -128;

    public byte* Panel(int panel) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)) + ((long)panel * PanelBytes);

    /// <summary>An empty (zero) K x N operand for <see cref="PackFrom"/>.</summary>
    public static QgemmPackedB Create(QgemmConfig config, int k, int n) => new(config, k, n);

    /// <summary>Packs B whose element (k, n) is at b[k * rowStride + n * colStride]: int8 when <paramref name="signed"/>, else uint8.</summary>
    public static QgemmPackedB Pack(QgemmConfig config, byte* b, int k, int n, nint rowStride, nint colStride, bool signed)
    {
        var packed = new QgemmPackedB(config, k, n);
        packed.PackFrom(b, rowStride, colStride, signed);
        if (config.NeedsSevenBitB && !packed.FitsSevenBits())
        {
            throw new ArgumentException($"the {config.Isa} kernel needs B within [-{SevenBitWeights.Limit}, {SevenBitWeights.Limit}] (7-bit weights): its pair sums would saturate", nameof(b));
        }

        return packed;
    }

    /// <summary>Packs B (laid out as in <see cref="Pack"/>) into this operand, overwriting what was there; padding stays zero.</summary>
    public void PackFrom(byte* b, nint rowStride, nint colStride, bool signed)
    {
        byte flip = signed ? (byte)0 : (byte)0x80;
        if (colStride == 1 && Sse2.IsSupported)
        {
            PackRows(b, rowStride, flip);
            return;
        }

        if (rowStride == 1)
        {
            PackColumns(b, colStride, flip);
            return;
        }

        int group = Config.KGroup;
        for (int p = 0; p < Panels; p++)
        {
            byte* dst = Panel(p);
            int cols = Math.Min(QgemmConfig.Nr, N - (p * QgemmConfig.Nr));
            for (int c = 0; c < cols; c++)
            {
                int column = (p * QgemmConfig.Nr) + c;
                byte* src = b + (column * colStride);
                int sum = 0;
                for (int kk = 0; kk < K; kk++)
                {
                    sbyte v = (sbyte)(src[kk * rowStride] ^ flip);
                    sum += v;
                    long slot = ((long)(kk / group) * QgemmConfig.Nr * group) + (c * group) + (kk % group);
                    if (Config.ElementSize == 1)
                    {
                        dst[slot] = (byte)v;
                    }
                    else
                    {
                        ((short*)dst)[slot] = v;
                    }
                }

                ColumnSums[column] = sum;
            }
        }
    }

    // The packed bytes (padding is 0) of a byte-layout B, all within the 7-bit kernels' range.
    private bool FitsSevenBits() => SevenBitWeights.Fit(Panel(0), (long)Panels * PanelBytes, signed: true);

    // Row-major B, 16 columns of one K group at a time: the group's rows (16 bytes each) interleaved with byte and
    // word unpacks, which is a B of an attention product (packed every run) in a few instructions per 64 bytes.
    private void PackRows(byte* b, nint rowStride, byte flip)
    {
        var flips = Vector128.Create(flip);
        int group = Config.KGroup;
        byte* zero = stackalloc byte[16];
        byte* edge = stackalloc byte[16 * 4];
        int* panelSums = stackalloc int[QgemmConfig.Nr];
        new Span<byte>(zero, 16).Clear();
        fixed (int* sums = ColumnSums)
        {
            for (int p = 0; p < Panels; p++)
            {
                int col = p * QgemmConfig.Nr;
                int cols = Math.Min(QgemmConfig.Nr, N - col);
                byte* dst = Panel(p);
                var sum0 = Vector128<int>.Zero;
                var sum1 = Vector128<int>.Zero;
                var sum2 = Vector128<int>.Zero;
                var sum3 = Vector128<int>.Zero;
                for (int k = 0; k < K; k += group, dst += QgemmConfig.Nr * group * Config.ElementSize)
                {
                    // Each row of the group as 16 signed bytes; rows beyond K and columns beyond N are zero.
                    var r0 = Row(b, rowStride, k, col, cols, flips, zero, edge);
                    var r1 = k + 1 < K ? Row(b, rowStride, k + 1, col, cols, flips, zero, edge + 16) : Vector128<byte>.Zero;
                    Accumulate(r0, ref sum0, ref sum1, ref sum2, ref sum3);
                    Accumulate(r1, ref sum0, ref sum1, ref sum2, ref sum3);
                    if (group == 4)
                    {
                        var r2 = k + 2 < K ? Row(b, rowStride, k + 2, col, cols, flips, zero, edge + 32) : Vector128<byte>.Zero;
                        var r3 = k + 3 < K ? Row(b, rowStride, k + 3, col, cols, flips, zero, edge + 48) : Vector128<byte>.Zero;
                        Accumulate(r2, ref sum0, ref sum1, ref sum2, ref sum3);
                        Accumulate(r3, ref sum0, ref sum1, ref sum2, ref sum3);
                        var lo01 = Sse2.UnpackLow(r0, r1).AsInt16();
                        var hi01 = Sse2.UnpackHigh(r0, r1).AsInt16();
                        var lo23 = Sse2.UnpackLow(r2, r3).AsInt16();
                        var hi23 = Sse2.UnpackHigh(r2, r3).AsInt16();
                        Sse2.UnpackLow(lo01, lo23).Store((short*)dst);
                        Sse2.UnpackHigh(lo01, lo23).Store((short*)(dst + 16));
                        Sse2.UnpackLow(hi01, hi23).Store((short*)(dst + 32));
                        Sse2.UnpackHigh(hi01, hi23).Store((short*)(dst + 48));
                    }
                    else
                    {
                        var (w0lo, w0hi) = Vector128.Widen(r0.AsSByte());
                        var (w1lo, w1hi) = Vector128.Widen(r1.AsSByte());
                        Sse2.UnpackLow(w0lo, w1lo).Store((short*)dst);
                        Sse2.UnpackHigh(w0lo, w1lo).Store((short*)dst + 8);
                        Sse2.UnpackLow(w0hi, w1hi).Store((short*)dst + 16);
                        Sse2.UnpackHigh(w0hi, w1hi).Store((short*)dst + 24);
                    }
                }

                sum0.Store(panelSums);
                sum1.Store(panelSums + 4);
                sum2.Store(panelSums + 8);
                sum3.Store(panelSums + 12);
                new ReadOnlySpan<int>(panelSums, cols).CopyTo(new Span<int>(sums + col, cols));
            }
        }
    }

    // Columns contiguous (a transposed B, e.g. an attention's Kᵀ read out of K, packed every run): 16 K values of a
    // column at a time, whose K groups are 4 bytes each in the panel either way (4 bytes for VNNI, 2 widened shorts
    // otherwise), so each group is one 32-bit store.
    private void PackColumns(byte* b, nint colStride, byte flip)
    {
        var flips = Vector128.Create(flip);
        int group = Config.KGroup;
        int groupBytes = QgemmConfig.Nr * group * Config.ElementSize;
        int wholeK = K & ~15;
        for (int column = 0; column < N; column++)
        {
            byte* src = b + (column * colStride);
            int c = column % QgemmConfig.Nr;
            byte* dst = Panel(column / QgemmConfig.Nr) + (c * group * Config.ElementSize);
            var sums = Vector128<int>.Zero;
            int k = 0;
            for (; k < wholeK; k += 16)
            {
                var v = (Vector128.Load(src + k) ^ flips).AsSByte();
                var (lo, hi) = Vector128.Widen(v);
                var (s0, s1) = Vector128.Widen(lo);
                var (s2, s3) = Vector128.Widen(hi);
                sums += (s0 + s1) + (s2 + s3);
                byte* at = dst + ((k / group) * groupBytes);
                if (Config.ElementSize == 1)
                {
                    Scatter(v.AsUInt32(), at, groupBytes);
                }
                else
                {
                    Scatter(lo.AsUInt32(), at, groupBytes);
                    Scatter(hi.AsUInt32(), at + (4 * groupBytes), groupBytes);
                }
            }

            int sum = Vector128.Sum(sums);
            for (; k < K; k++)
            {
                sbyte v = (sbyte)(src[k] ^ flip);
                sum += v;
                long slot = ((long)(k / group) * QgemmConfig.Nr * group) + (c * group) + (k % group);
                if (Config.ElementSize == 1)
                {
                    Panel(column / QgemmConfig.Nr)[slot] = (byte)v;
                }
                else
                {
                    ((short*)Panel(column / QgemmConfig.Nr))[slot] = v;
                }
            }

            ColumnSums[column] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scatter(Vector128<uint> groups, byte* at, int stride)
    {
        *(uint*)at = groups.GetElement(0);
        *(uint*)(at + stride) = groups.GetElement(1);
        *(uint*)(at + (2 * stride)) = groups.GetElement(2);
        *(uint*)(at + (3 * stride)) = groups.GetElement(3);
    }

    private static Vector128<byte> Row(byte* b, nint rowStride, int k, int col, int cols, Vector128<byte> flips, byte* zero, byte* edge)
    {
        byte* src = b + (k * rowStride) + col;
        if (cols == QgemmConfig.Nr) return Vector128.Load(src) ^ flips;

        // A last panel narrower than 16 columns: copy what exists, leave the rest 0 (after the flip, so it adds nothing).
        new ReadOnlySpan<byte>(zero, 16).CopyTo(new Span<byte>(edge, 16));
        for (int c = 0; c < cols; c++) edge[c] = (byte)(src[c] ^ flips[0]);
        return Vector128.Load(edge);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(Vector128<byte> row, ref Vector128<int> s0, ref Vector128<int> s1, ref Vector128<int> s2, ref Vector128<int> s3)
    {
        var (lo, hi) = Vector128.Widen(row.AsSByte());
        var (a, b) = Vector128.Widen(lo);
        var (c, d) = Vector128.Widen(hi);
        s0 += a;
        s1 += b;
        s2 += c;
        s3 += d;
    }
}
