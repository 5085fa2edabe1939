using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Convolution;

/// <summary>The micro-kernel's tile stored pixel-major into a chunk's tile matrix: pixel p's 64 channels at c + 64 p.</summary>
internal readonly unsafe struct ChannelBlockTileRows(float* c) : IChannelBlockTileSink
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int pixel, int part, Vector512<float> value) =>
        value.Store(c + pixel * ChannelBlockMicroKernel.Channels + part * 16);
}
