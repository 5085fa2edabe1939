using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Indexing;

public class BlockShuffleTests
{
    [Theory]
    [InlineData(1, 2, "DCR")]
    [InlineData(2, 2, "DCR")]
    [InlineData(2, 3, "CRD")]
    [InlineData(1, 3, "CRD")]
    public void DepthToSpaceMatchesReshapeTransposeAndInvertsSpaceToDepth(int degree, int block, string mode)
    {
        int n = 2, c = 4 * block * block, h = 13, w = 37;
        var data = Enumerable.Range(0, n * c * h * w).Select(i => (float)i).ToArray();
        var input = Tensor.FromArray(data, n, c, h, w);
        var output = Run("DepthToSpace", 13, [input], degree, Int("blocksize", block), String("mode", mode));
        int oc = c / (block * block);
        Assert.Equal([n, oc, h * block, w * block], output.Shape);
        var actual = output.ToArray<float>();
        for (int ni = 0; ni < n; ni++)
        for (int ci = 0; ci < oc; ci++)
        for (int y = 0; y < h * block; y++)
        for (int x = 0; x < w * block; x++)
        {
            int by = y % block, bx = x % block;
            int channel = mode == "DCR" ? (by * block + bx) * oc + ci : ci * block * block + by * block + bx;
            float expected = data[((ni * c + channel) * h + y / block) * w + x / block];
            Assert.Equal(expected, actual[((ni * oc + ci) * h * block + y) * w * block + x]);
        }

        if (mode == "DCR")
        {
            var back = Run("SpaceToDepth", 13, [output], degree, Int("blocksize", block));
            Assert.Equal(data, back.ToArray<float>());
        }
    }
}
