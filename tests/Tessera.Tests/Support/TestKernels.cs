using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Tests.Support;

/// <summary>
/// A registry with two trivial float kernels, so engine tests exercise planning, folding and validation
/// independently of the real kernel families.
/// </summary>
internal static class TestKernels
{
    public static int AddComputations;

    public static KernelRegistry Registry()
    {
        var registry = new KernelRegistry();
        registry.Register("Add", 7, _ => new AddKernel());
        registry.Register("Neg", 6, _ => new NegKernel());
        return registry;
    }

    private sealed class AddKernel : IKernel
    {
        public void Compute(KernelContext context)
        {
            Interlocked.Increment(ref AddComputations);
            var a = context.RequiredInput(0);
            var b = context.RequiredInput(1);
            if (!ShapeMath.SameShape(a.Shape, b.Shape)) throw new KernelException($"test Add needs equal shapes, got {a} and {b}");
            var y = context.AllocateOutput(0, DataType.Float32, a.Shape);
            for (int i = 0; i < y.Length; i++) y.Span<float>()[i] = a.Span<float>()[i] + b.Span<float>()[i];
        }
    }

    private sealed class NegKernel : IKernel
    {
        public void Compute(KernelContext context)
        {
            var x = context.RequiredInput(0);
            var y = context.AllocateOutput(0, DataType.Float32, x.Shape);
            for (int i = 0; i < y.Length; i++) y.Span<float>()[i] = -x.Span<float>()[i];
        }
    }
}
