using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The micro-kernel's tile after its last depth block, finished straight into a channel-blocked Y: bias, sum and Relu
/// as <see cref="ChannelBlockStore.Pixel(Vector512{float}, float*, float*, float*, bool)"/> applies them, so the bits
/// equal a tile stored and finished afterwards. Pixel p's channels [16 part, + 16) go to y + at[p] + part x
/// <paramref name="partStride"/> (a sum, shaped like Y, is read at the same offset); pixels from
/// <paramref name="valid"/> on (a chunk's short last tile) are not stored.
/// </summary>
internal readonly unsafe struct ChannelBlockedFinish(float* y, float* bias, float* sum, long* at, int valid, long partStride, bool relu)
    : IChannelBlockTileSink
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int pixel, int part, Vector512<float> value)
    {
        if (pixel < valid)
        {
            long offset = at[pixel] + part * partStride;
            ChannelBlockStore.Pixel(value, bias == null ? null : bias + part * 16, sum == null ? null : sum + offset, y + offset, relu);
        }
    }
}
