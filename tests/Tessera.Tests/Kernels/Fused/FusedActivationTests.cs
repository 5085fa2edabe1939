using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Fused;

/// <summary>FusedActivation's parsing and in-place Apply against the standard operators, at every length across the vector tails.</summary>
public sealed class FusedActivationTests
{
    [Fact]
    public void ApplyMatchesUnfusedOperators()
    {
        var random = new Random(3);
        var parallel = new ParallelRunner(1);
        foreach (var (name, parameters) in FusedActivationHarness.Activations)
        {
            var activation = FusedActivation.Parse(name, parameters);
            foreach (int length in new[] { 0, 1, 7, 16, 31, 255, 256, 257, 1000 })
            {
                var x = KernelHarness.Random(random, length).Select(v => v * 5f).ToArray();
                if (length > 3)
                {
                    x[0] = 0f;
                    x[1] = -0f;
                    x[2] = 1e-20f;
                }

                var expected = FusedActivationHarness.Unfused(name, parameters, Tensor.FromArray((float[])x.Clone(), length), parallel);
                activation.Apply(x);
                FusedActivationHarness.AssertClose(expected, Tensor.FromArray(x, length), $"{name} length {length}");
            }
        }
    }

    [Fact]
    public void ParsesDefaultsAndRejectsUnknownNames()
    {
        Assert.True(FusedActivation.Parse("", null).IsNone);
        var leaky = FusedActivation.Parse("LeakyRelu", null);
        Assert.Equal(ActivationKind.LeakyRelu, leaky.Kind);
        Assert.Equal(0.01f, leaky.Alpha);
        var clip = FusedActivation.Parse("Clip", [1f]);
        Assert.Equal((1f, float.MaxValue), (clip.Alpha, clip.Beta));
        var hard = FusedActivation.Parse("HardSigmoid", null);
        Assert.Equal((0.2f, 0.5f), (hard.Alpha, hard.Beta));
        Assert.Throws<KernelException>(() => FusedActivation.Parse("Swish", null));
    }

    [Fact]
    public void ReluKeepsNaN()
    {
        float[] x = [float.NaN, -1f, 2f];
        FusedActivation.Parse("Relu", null).Apply(x);
        Assert.True(float.IsNaN(x[0]));
        Assert.Equal([0f, 2f], x[1..]);
    }
}
