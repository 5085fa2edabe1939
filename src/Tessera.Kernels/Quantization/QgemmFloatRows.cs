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

    public QgemmFloatRows Skip(long elements) => new(_x + elements, _k, _rowStride, _scale, _zeroPoint);

    public void Pack(int row, int count, byte* destination, int stride, int* sums)
    {
        for (int r = 0; r < count; r++)
        {
            sums[r] = Quantizer.Quantize(_x + ((long)(row + r) * _rowStride), destination + ((long)r * stride), _k, _scale, _zeroPoint, 0, 255);
        }
    }
}
