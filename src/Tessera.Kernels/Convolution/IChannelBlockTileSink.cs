using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Where <see cref="ChannelBlockMicroKernel"/> puts its finished 64 x 6 tile: a struct, so the JIT compiles the kernel
/// once per destination with the stores inlined (the chunk's tile matrix, or a channel-blocked Y finished in place).
/// </summary>
internal interface IChannelBlockTileSink
{
    /// <summary>The tile's channels [16 part, + 16) of its pixel <paramref name="pixel"/> (0-5).</summary>
    void Store(int pixel, int part, Vector512<float> value);
}
