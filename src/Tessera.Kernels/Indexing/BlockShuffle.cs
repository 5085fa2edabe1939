using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// The element permutation shared by DepthToSpace and SpaceToDepth between a "depth" layout [N, C, H, W] and a
/// "space" layout [N, C/(b*b), H*b, W*b]: space(n, c, h*b+y, w*b+x) = depth(n, channel(c, y, x), h, w).
/// </summary>
internal static class BlockShuffle
{
    private const int ParallelElements = 1 << 15;

    /// <param name="depthShape">[N, C, H, W] of the depth-side tensor.</param>
    /// <param name="columnFirst">CRD channel order (c*b*b + y*b + x) instead of DCR ((y*b + x)*C' + c).</param>
    /// <param name="toSpace">Move depth → space (DepthToSpace) rather than space → depth.</param>
    public static void Run(Tensor source, Tensor destination, int[] depthShape, int block, bool columnFirst, bool toSpace, ParallelRunner parallel)
    {
        // One work item per (batch, space channel) plane.
        int planes = depthShape[0] * (depthShape[1] / (block * block));
        void Body(int start, int end)
        {
            switch (TensorElements.KindOf(source.DataType))
            {
                case ElementKind.Size1: Run<byte>(source, destination, depthShape, block, columnFirst, toSpace, start, end); break;
                case ElementKind.Size2: Run<ushort>(source, destination, depthShape, block, columnFirst, toSpace, start, end); break;
                case ElementKind.Size4: Run<uint>(source, destination, depthShape, block, columnFirst, toSpace, start, end); break;
                case ElementKind.Size8: Run<ulong>(source, destination, depthShape, block, columnFirst, toSpace, start, end); break;
                default: Run<string>(source, destination, depthShape, block, columnFirst, toSpace, start, end); break;
            }
        }

        if (source.Length < ParallelElements || parallel.Degree == 1 || source.DataType == DataType.String)
        {
            Body(0, planes);
        }
        else
        {
            parallel.ForRange(planes, Math.Max(1, (int)((long)ParallelElements * planes / source.Length)), Body);
        }
    }

    private static void Run<T>(Tensor source, Tensor destination, int[] depthShape, int b, bool columnFirst, bool toSpace, int start, int end)
    {
        Span<T> src = TensorElements.As<T>(source);
        Span<T> dst = TensorElements.As<T>(destination);
        int channels = depthShape[1], h = depthShape[2], w = depthShape[3];
        int spaceChannels = channels / (b * b);
        int spaceWidth = w * b;
        for (int plane = start; plane < end; plane++)
        {
            int ni = plane / spaceChannels;
            int c = plane - ni * spaceChannels;
            for (int hi = 0; hi < h; hi++)
            {
                for (int y = 0; y < b; y++)
                {
                    int spaceRow = (plane * h * b + hi * b + y) * spaceWidth;
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
