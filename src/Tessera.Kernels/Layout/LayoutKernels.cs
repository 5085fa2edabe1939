using Tessera.Kernels.Core;

namespace Tessera.Kernels.Layout;

/// <summary>Registers the Layout operator family: operators that create, reshape, reorder or cut tensors without arithmetic.</summary>
public static class LayoutKernels
{
    public static void Register(KernelRegistry registry)
    {
        // Each factory reads the model's opset itself, so one factory serves every since-version listed.
        Add(registry, "Concat", ConcatKernel.Create, 1, 4, 11, 13);
        Add(registry, "Constant", ConstantKernel.Create, 1, 9, 11, 12, 13);
        Add(registry, "ConstantOfShape", ConstantOfShapeKernel.Create, 9);
        Add(registry, "Expand", ExpandKernel.Create, 8, 13);
        Add(registry, "Flatten", FlattenKernel.Create, 1, 9, 11, 13);
        Add(registry, "Range", RangeKernel.Create, 11);
        Add(registry, "Reshape", ReshapeKernel.Create, 1, 5, 13, 14);
        Add(registry, "Shape", ShapeKernel.Create, 1, 13, 15);
        Add(registry, "Size", SizeKernel.Create, 1, 13);
        Add(registry, "Slice", SliceKernel.Create, 1, 10, 11, 13);
        Add(registry, "Split", SplitKernel.Create, 1, 2, 11, 13, 18);
        Add(registry, "Squeeze", SqueezeKernel.Create, 1, 11, 13);
        Add(registry, "Unsqueeze", UnsqueezeKernel.Create, 1, 11, 13);
        Add(registry, "Tile", TileKernel.Create, 1, 6, 13);
        Add(registry, "Transpose", TransposeKernel.Create, 1, 13);
    }

    private static void Add(KernelRegistry registry, string opType, KernelFactory factory, params int[] sinceVersions)
    {
        foreach (int version in sinceVersions)
        {
            registry.Register(opType, version, factory);
        }
    }
}
