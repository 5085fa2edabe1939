using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// The element permutation shared by DepthToSpace and SpaceToDepth between a "depth" layout [N, C, H, W] and a
/// "space" layout [N, C/(b*b), H*b, W*b]: space(n, c, h*b+y, w*b+x) = depth(n, channel(c, y, x), h, w).
/// </summary>
internal static class BlockShuffle
{
    /// <param name="depthShape">[N, C, H, W] of the depth-side tensor.</param>
    /// <param name="columnFirst">CRD channel order (c*b*b + y*b + x) instead of DCR ((y*b + x)*C' + c).</param>
    /// <param name="toSpace">Move depth → space (DepthToSpace) rather than space → depth.</param>
    public static void Run(Tensor source, Tensor destination, int[] depthShape, int block, bool columnFirst, bool toSpace)
    {
        switch (TensorElements.KindOf(source.DataType))
        {
            case ElementKind.Size1: Run<byte>(source, destination, depthShape, block, columnFirst, toSpace); break;
            case ElementKind.Size2: Run<ushort>(source, destination, depthShape, block, columnFirst, toSpace); break;
            case ElementKind.Size4: Run<uint>(source, destination, depthShape, block, columnFirst, toSpace); break;
            case ElementKind.Size8: Run<ulong>(source, destination, depthShape, block, columnFirst, toSpace); break;
            default: Run<string>(source, destination, depthShape, block, columnFirst, toSpace); break;
        }
    }

    private static void Run<T>(Tensor source, Tensor destination, int[] depthShape, int b, bool columnFirst, bool toSpace)
    {
        Span<T> src = TensorElements.As<T>(source);
        Span<T> dst = TensorElements.As<T>(destination);
        int n = depthShape[0], channels = depthShape[1], h = depthShape[2], w = depthShape[3];
        int spaceChannels = channels / (b * b);
        int spaceWidth = w * b;
        for (int ni = 0; ni < n; ni++)
        {
            for (int c = 0; c < spaceChannels; c++)
            {
                for (int hi = 0; hi < h; hi++)
                {
                    for (int y = 0; y < b; y++)
                    {
                        int spaceRow = ((ni * spaceChannels + c) * h * b + hi * b + y) * spaceWidth;
                        for (int x = 0; x < b; x++)
                        {
                            int channel = columnFirst ? (c * b + y) * b + x : (y * b + x) * spaceChannels + c;
                            int depthRow = ((ni * channels + channel) * h + hi) * w;
                            if (toSpace)
                            {
                                for (int wi = 0; wi < w; wi++)
                                {
                                    dst[spaceRow + wi * b + x] = src[depthRow + wi];
                                }
                            }
                            else
                            {
                                for (int wi = 0; wi < w; wi++)
                                {
                                    dst[depthRow + wi] = src[spaceRow + wi * b + x];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
