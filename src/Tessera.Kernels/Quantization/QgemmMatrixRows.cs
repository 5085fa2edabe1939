namespace Tessera.Kernels.Quantization;

/// <summary>A row-major uint8 or int8 matrix as the A operand of the integer GEMM.</summary>
internal readonly unsafe struct QgemmMatrixRows : IQgemmBatchRows<QgemmMatrixRows>
{
    private readonly byte* _a;
    private readonly nint _lda;
    private readonly int _k;
    private readonly byte _flip;

    public QgemmMatrixRows(byte* a, nint lda, int k, bool signed)
    {
        _a = a;
        _lda = lda;
        _k = k;
        _flip = signed ? (byte)0x80 : (byte)0;
    }

    /// <summary>How far <see cref="Pack"/> moves A's values: +128 for int8, 0 for uint8 (add it to the zero point too).</summary>
    public static int Shift(bool signed) => signed ? 128 : 0;

    public QgemmMatrixRows Skip(long elements) => new(_a + elements, _lda, _k, _flip != 0);

    public void Pack(int row, int count, byte* destination, int stride, int* sums)
    {
        for (int r = 0; r < count; r++)
        {
            byte* src = _a + ((row + r) * _lda);
            byte* dst = destination + ((long)r * stride);
            if (_flip == 0)
            {
                new ReadOnlySpan<byte>(src, _k).CopyTo(new Span<byte>(dst, _k));
            }
            else
            {
                for (int i = 0; i < _k; i++) dst[i] = (byte)(src[i] ^ _flip);
            }

            sums[r] = ByteSums.Of(dst, _k);
        }
    }
}
