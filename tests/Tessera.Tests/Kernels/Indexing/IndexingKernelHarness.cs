using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Indexing;

/// <summary>Builds one kernel through the default registry and computes it on given inputs.</summary>
internal static class IndexingKernelHarness
{
    public static Tensor Run(string opType, int opset, Tensor?[] inputs, int degree = 1, params NodeAttribute[] attributes)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType}-{opset} is not registered");
        var parallel = new ParallelRunner(degree);
        var info = new KernelInfo(opType, string.Empty, opset, "test", inputs.Length, 1,
            attributes.ToDictionary(a => a.Name), _ => null, parallel);
        var kernel = factory(info);
        var context = new KernelContext(inputs, 1, [true], parallel);
        kernel.Compute(context);
        return context.Output(0) ?? throw new InvalidOperationException("no output");
    }

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };

    public static NodeAttribute String(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    public static NodeAttribute Ints(string name, params long[] value) => new() { Name = name, Kind = AttributeKind.Ints, Ints = value };
}
