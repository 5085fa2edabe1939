using Tessera.Kernels.Core;

namespace Tessera.Kernels.Indexing;

/// <summary>Registers the Indexing operator family.</summary>
public static class IndexingKernels
{
    public static void Register(KernelRegistry registry)
    {
        foreach (int version in (int[])[1, 11, 13])
        {
            registry.Register("Gather", version, info => new GatherKernel(info.GetInt("axis", 0)));
        }

        foreach (int version in (int[])[11, 13])
        {
            registry.Register("GatherElements", version, info => new GatherElementsKernel(info.GetInt("axis", 0)));
        }

        foreach (int version in (int[])[11, 12, 13])
        {
            registry.Register("GatherND", version, info => new GatherNDKernel((int)info.GetInt("batch_dims", 0)));
        }

        foreach (int version in (int[])[11, 13, 16, 18])
        {
            registry.Register("ScatterElements", version, info => new ScatterElementsKernel(info.GetInt("axis", 0), ReductionOf(info)));
            registry.Register("ScatterND", version, info => new ScatterNDKernel(ReductionOf(info)));
        }

        foreach (int version in (int[])[9, 11])
        {
            registry.Register("OneHot", version, info => new OneHotKernel(info.GetInt("axis", -1)));
        }

        registry.Register("Trilu", 14, info => new TriluKernel(info.GetInt("upper", 1) != 0));

        foreach (int version in (int[])[1, 11, 13])
        {
            registry.Register("DepthToSpace", version, CreateDepthToSpace);
        }

        foreach (int version in (int[])[1, 13])
        {
            registry.Register("SpaceToDepth", version, info => new SpaceToDepthKernel(BlockSize(info)));
        }

        foreach (int version in (int[])[1, 2, 11, 13, 18, 19])
        {
            registry.Register("Pad", version, CreatePad);
        }
    }

    private static ScatterReduction ReductionOf(KernelInfo info) =>
        ScatterReductions.Parse(info.GetString("reduction", "none"), info.OpsetVersion, info.OpType);

    private static int BlockSize(KernelInfo info)
    {
        long block = info.GetRequiredInt("blocksize");
        if (block < 1 || block > int.MaxValue)
        {
            throw new KernelException($"{info.OpType} blocksize {block} must be positive");
        }

        return (int)block;
    }

    private static IKernel CreateDepthToSpace(KernelInfo info)
    {
        string mode = info.GetString("mode", "DCR");
        if (mode is not ("DCR" or "CRD"))
        {
            throw new KernelException($"DepthToSpace mode '{mode}' is not DCR or CRD");
        }

        return new DepthToSpaceKernel(BlockSize(info), mode == "CRD");
    }

    private static IKernel CreatePad(KernelInfo info)
    {
        var mode = PadModes.Parse(info.GetString("mode", "constant"));
        if (info.OpsetVersion >= 11)
        {
            return new PadKernel(mode, null, 0);
        }

        long[] pads = info.GetInts("pads") ?? info.GetInts("paddings")
            ?? throw new KernelException("Pad needs attribute 'pads' before opset 11");
        return new PadKernel(mode, pads, info.GetFloat("value", 0f));
    }
}
