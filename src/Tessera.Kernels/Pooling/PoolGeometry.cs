namespace Tessera.Kernels.Pooling;

/// <summary>
/// Window geometry for one input shape, always as three spatial dimensions (D, H, W); lower-rank pools use
/// size-1 leading dimensions. For each dimension and output position it records the first in-bounds tap,
/// how many taps fall inside the input, and how many fall inside the padded extent (for count_include_pad).
/// </summary>
internal sealed class PoolGeometry
{
    private readonly int[] _in = [1, 1, 1];
    private readonly int[] _out = [1, 1, 1];
    private readonly int[] _kernel = [1, 1, 1];
    private readonly int[] _stride = [1, 1, 1];
    private readonly int[] _dilation = [1, 1, 1];
    private readonly int[] _padBegin = new int[3];
    private readonly int[] _padEnd = new int[3];
    private readonly int[][] _first = new int[3][];
    private readonly int[][] _count = new int[3][];
    private readonly int[][] _paddedCount = new int[3][];

    public PoolGeometry(int batch, int channels)
    {
        Batch = batch;
        Channels = channels;
        for (int i = 0; i < 3; i++)
        {
            Compute(i);
        }
    }

    public int Batch { get; }

    public int Channels { get; }

    public int Planes => Batch * Channels;

    public int InputPlaneSize => _in[0] * _in[1] * _in[2];

    public int OutputPlaneSize => _out[0] * _out[1] * _out[2];

    public int In(int dim) => _in[dim];

    public int Out(int dim) => _out[dim];

    public int Kernel(int dim) => _kernel[dim];

    public int Stride(int dim) => _stride[dim];

    public int Dilation(int dim) => _dilation[dim];

    public int PadBegin(int dim) => _padBegin[dim];

    /// <summary>Input index of the first tap of output <paramref name="o"/> that lies inside the input.</summary>
    public int[] First(int dim) => _first[dim];

    /// <summary>Number of taps of each output window that lie inside the input.</summary>
    public int[] Count(int dim) => _count[dim];

    /// <summary>Number of taps of each output window inside the input plus its pads (the count_include_pad divisor).</summary>
    public int[] PaddedCount(int dim) => _paddedCount[dim];

    /// <summary>Output shape for an input of the given spatial rank.</summary>
    public int[] OutputShape(int spatialRank)
    {
        var shape = new int[spatialRank + 2];
        shape[0] = Batch;
        shape[1] = Channels;
        for (int i = 0; i < spatialRank; i++)
        {
            shape[i + 2] = _out[3 - spatialRank + i];
        }

        return shape;
    }

    /// <summary>The outputs [lo, hi) along <paramref name="dim"/> whose windows lie wholly inside the input (a contiguous middle run).</summary>
    public void InteriorRange(int dim, out int lo, out int hi)
    {
        int[] count = _count[dim];
        int k = _kernel[dim];
        lo = 0;
        while (lo < count.Length && count[lo] != k)
        {
            lo++;
        }

        hi = lo;
        while (hi < count.Length && count[hi] == k)
        {
            hi++;
        }
    }

    public void SetDimension(int dim, int input, int output, int kernel, int stride, int dilation, int padBegin, int padEnd)
    {
        _in[dim] = input;
        _out[dim] = output;
        _kernel[dim] = kernel;
        _stride[dim] = stride;
        _dilation[dim] = dilation;
        _padBegin[dim] = padBegin;
        _padEnd[dim] = padEnd;
        Compute(dim);
    }

    private void Compute(int dim)
    {
        int n = _in[dim], outSize = _out[dim], k = _kernel[dim], s = _stride[dim], d = _dilation[dim];
        long paddedEnd = (long)n + _padEnd[dim];
        var first = new int[outSize];
        var count = new int[outSize];
        var padded = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            long start = (long)o * s - _padBegin[dim];

            // Taps t with 0 <= start + t*d < n.
            long tLo = start >= 0 ? 0 : (-start + d - 1) / d;
            long tHi = start > n - 1 ? 0 : Math.Min(k, (n - 1 - start) / d + 1);
            count[o] = (int)Math.Max(0, tHi - tLo);
            first[o] = (int)Math.Clamp(start + tLo * d, 0, Math.Max(0, n - 1));

            // Taps inside [-padBegin, n + padEnd); windows never start before -padBegin.
            long pHi = start >= paddedEnd ? 0 : Math.Min(k, (paddedEnd - 1 - start) / d + 1);
            padded[o] = (int)pHi;
        }

        _first[dim] = first;
        _count[dim] = count;
        _paddedCount[dim] = padded;
    }
}
