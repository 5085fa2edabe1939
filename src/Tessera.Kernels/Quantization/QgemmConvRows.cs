using Tessera.Kernels.Convolution;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// A convolution's input unfolded row by row as the integer GEMM packs it (im2col without its buffer): row p is output
/// position p, holding for each input channel of the group its kernel window, in W's (channel, kernel...) order.
/// Positions in the padding read the input's zero point, which contributes nothing once zero points are removed.
/// </summary>
internal readonly unsafe struct QgemmConvRows : IQgemmRows
{
    private readonly byte* _x;
    private readonly int _channels;
    private readonly ConvGeometry _g;
    private readonly byte _pad;
    private readonly byte _flip;

    /// <summary><paramref name="x"/> points at the group's first channel of one image; <paramref name="zeroPoint"/> is x's raw zero point.</summary>
    public QgemmConvRows(byte* x, int channels, ConvGeometry g, int zeroPoint, bool signed)
    {
        _x = x;
        _channels = channels;
        _g = g;
        _flip = signed ? (byte)0x80 : (byte)0;
        _pad = (byte)((byte)zeroPoint ^ _flip);
    }

    public void Pack(int row, int count, byte* destination, int stride, int* sums)
    {
        var g = _g;
        int rank = g.Rank;
        int window = g.KernelSize;
        int* offsets = stackalloc int[window];
        int* origin = stackalloc int[rank];
        int* index = stackalloc int[rank];
        for (int r = 0; r < count; r++)
        {
            // The output position's first input coordinate per axis.
            int p = row + r;
            for (int d = rank - 1; d >= 0; d--)
            {
                origin[d] = ((p % g.Output[d]) * g.Strides[d]) - g.PadBegin[d];
                p /= g.Output[d];
            }

            for (int d = 0; d < rank; d++) index[d] = 0;
            for (int w = 0; w < window; w++)
            {
                int offset = 0;
                for (int d = 0; d < rank && offset >= 0; d++)
                {
                    int at = origin[d] + (index[d] * g.Dilations[d]);
                    offset = at < 0 || at >= g.Input[d] ? -1 : (offset * g.Input[d]) + at;
                }

                offsets[w] = offset;
                for (int d = rank - 1; d >= 0 && ++index[d] == g.Kernel[d]; d--) index[d] = 0;
            }

            byte* dst = destination + ((long)r * stride);
            for (int c = 0; c < _channels; c++)
            {
                byte* src = _x + ((long)c * g.InputSize);
                for (int w = 0; w < window; w++)
                {
                    int offset = offsets[w];
                    *dst++ = offset < 0 ? _pad : (byte)(src[offset] ^ _flip);
                }
            }

            sums[r] = ByteSums.Of(destination + ((long)r * stride), _channels * window);
        }
    }
}
