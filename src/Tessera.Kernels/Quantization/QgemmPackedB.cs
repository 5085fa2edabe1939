using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The B operand (K x N) of the integer GEMM in panels of <see cref="QgemmConfig.Nr"/> columns, as signed bytes:
/// uint8 B is shifted by -128 (its zero point moves with it, which keeps (b - zb) exact). Within a panel each K group
/// of a column is contiguous (4 bytes for VNNI, 2 widened shorts otherwise); K and N are zero-padded. Also keeps
/// each column's sum of shifted values, which the zero-point correction of the activations needs.
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

    /// <summary>Packs B whose element (k, n) is at b[k * rowStride + n * colStride]: int8 when <paramref name="signed"/>, else uint8.</summary>
    public static QgemmPackedB Pack(QgemmConfig config, byte* b, int k, int n, nint rowStride, nint colStride, bool signed)
    {
        var packed = new QgemmPackedB(config, k, n);
        int group = config.KGroup;
        byte flip = signed ? (byte)0 : (byte)0x80;
        for (int p = 0; p < packed.Panels; p++)
        {
            byte* dst = packed.Panel(p);
            int cols = Math.Min(QgemmConfig.Nr, n - (p * QgemmConfig.Nr));
            for (int c = 0; c < cols; c++)
            {
                int column = (p * QgemmConfig.Nr) + c;
                byte* src = b + (column * colStride);
                int sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    sbyte v = (sbyte)(src[kk * rowStride] ^ flip);
                    sum += v;
                    long slot = ((long)(kk / group) * QgemmConfig.Nr * group) + (c * group) + (kk % group);
                    if (config.ElementSize == 1)
                    {
                        dst[slot] = (byte)v;
                    }
                    else
                    {
                        ((short*)dst)[slot] = v;
                    }
                }

                packed.ColumnSums[column] = sum;
            }
        }

        return packed;
    }
}
