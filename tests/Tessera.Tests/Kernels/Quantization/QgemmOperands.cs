using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>Random A and B of the integer GEMM with zero points, run through <see cref="Qgemm"/> and summed exactly in 64 bits.</summary>
internal sealed unsafe class QgemmOperands
{
    private byte[] _a = [];
    private byte[] _b = [];
    private int _aZero;
    private int[] _bZero = [];
    private int _m, _n, _k;
    private bool _signedA, _signedB;

    public static QgemmOperands Create(Random random, int m, int n, int k, bool signedA, bool signedB, bool extremes, bool symmetricB = false, bool sevenBitB = false)
    {
        // Extremes: every value at the end of its range that maximizes |a·b|, where pairwise 16-bit sums would saturate.
        // 7-bit B: values whose packed (int8, or uint8 - 128) form is within [-64, 64]; extremes at -64 for int8, +64 for uint8.
        byte Value(bool signed) => extremes ? (signed ? (byte)0x80 : (byte)255) : (byte)random.Next(256);
        byte SevenBit(bool signed) => (byte)((extremes ? (signed ? -64 : 64) : random.Next(-64, 65)) + (signed ? 0 : 128));
        var o = new QgemmOperands { _m = m, _n = n, _k = k, _signedA = signedA, _signedB = signedB };
        o._a = Enumerable.Range(0, m * k).Select(_ => Value(signedA)).ToArray();
        o._b = Enumerable.Range(0, k * n).Select(_ => sevenBitB ? SevenBit(signedB) : Value(signedB)).ToArray();
        o._aZero = extremes ? 0 : Zero(random, signedA);
        o._bZero = Enumerable.Range(0, n).Select(_ => extremes || symmetricB ? 0 : Zero(random, signedB)).ToArray();
        return o;
    }

    public long[] Reference()
    {
        var y = new long[_m * _n];
        for (int i = 0; i < _m; i++)
        {
            for (int j = 0; j < _n; j++)
            {
                long sum = 0;
                for (int p = 0; p < _k; p++)
                {
                    sum += (long)(Read(_a[(i * _k) + p], _signedA) - _aZero) * (Read(_b[(p * _n) + j], _signedB) - _bZero[j]);
                }

                y[(i * _n) + j] = sum;
            }
        }

        return y;
    }

    public void Run(QgemmConfig config, QgemmOutput output, ParallelRunner parallel)
    {
        fixed (byte* a = _a)
        fixed (byte* b = _b)
        {
            var packed = QgemmPackedB.Pack(config, b, _k, _n, _n, 1, _signedB);
            var rows = new QgemmMatrixRows(a, _k, _k, _signedA);
            var zeros = _bZero.Select(z => z + QgemmPackedB.Shift(_signedB)).ToArray();
            Qgemm.Multiply(_m, packed, rows, output with
            {
                AZero = _aZero + QgemmMatrixRows.Shift(_signedA), BZero = zeros, ColumnSums = packed.ColumnSums, K = _k,
            }, parallel);
        }
    }

    private static int Zero(Random random, bool signed) => signed ? random.Next(-128, 128) : random.Next(256);

    private static int Read(byte value, bool signed) => signed ? (sbyte)value : value;
}
