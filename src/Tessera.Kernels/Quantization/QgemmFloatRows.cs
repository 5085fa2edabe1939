namespace Tessera.Kernels.Quantization;

/// <summary>
/// float32 rows quantized to uint8 as the integer GEMM packs them, so the quantized activations never exist as a
/// tensor of their own (the fused QuantizedMatMul). Row r starts r x the row stride elements on: K unless the rows
/// are a view (an attention head's rows within [b, s, h, d]).
/// </summary>
internal readonly unsafe struct QgemmFloatRows : IQgemmBatchRows<QgemmFloatRows>
{
    private readonly float* _x;
    private readonly int _k;
    private readonly int _rowStride;
    private readonly float _scale;
    private readonly int _zeroPoint;

    // Row r's length before its zero tail (a causal attention's P: QgemmRowLimits.Depth), or null for K.
    private readonly int* _kept;

    public QgemmFloatRows(float* x, int k, float scale, int zeroPoint)
        : this(x, k, k, scale, zeroPoint)
    {
    }

    public QgemmFloatRows(float* x, int k, int rowStride, float scale, int zeroPoint)
    {
        _x = x;
        _k = k;
        _rowStride = rowStride;
        _scale = scale;
        _zeroPoint = zeroPoint;
    }

    private QgemmFloatRows(float* x, int k, int rowStride, float scale, int zeroPoint, int* kept)
        : this(x, k, rowStride, scale, zeroPoint)
    {
        _kept = kept;
    }

    public QgemmFloatRows Skip(long elements) => new(_x + elements, _k, _rowStride, _scale, _zeroPoint, _kept);

    /// <summary>
    /// These rows with row r's values from column kept[r] on known to be +0 (of every batch), which with zero point 0
    /// are byte 0: written without quantizing them.
    /// </summary>
    public QgemmFloatRows WithZeroTails(int* kept) => new(_x, _k, _rowStride, _scale, _zeroPoint, kept);

    public void Pack(int row, int count, byte* destination, int stride, int* sums)
    {
        for (int r = 0; r < count; r++)
        {
            // Rounded up to the quantizer's 32-float step (its values are +0 too): a shorter row ends in its scalar loop.
            int length = _kept is null || _zeroPoint != 0 ? _k : Math.Min((Math.Max(_kept[row + r], 0) + 31) & ~31, _k);
            sums[r] = Quantizer.Quantize(_x + ((long)(row + r) * _rowStride), destination + ((long)r * stride), length, _scale, _zeroPoint, 0, 255);
            if (length < _k) new Span<byte>(destination + ((long)r * stride) + length, _k - length).Clear();
        }
    }
}
