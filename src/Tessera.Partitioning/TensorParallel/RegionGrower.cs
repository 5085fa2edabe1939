namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// Grows a Megatron block from one column-split candidate: follows the sharded values forward, adds the other
/// column layers the block needs (e.g. K and V when Q's scores meet K), and stops at the row-split layers. A block
/// is kept only when every sharded value ends in a row layer; otherwise the reason is returned.
/// </summary>
internal static class RegionGrower
{
    private const int MaxColumns = 16;

    public static Region? TryGrow(GraphIndex index, IReadOnlyDictionary<Onnx.Graph.OnnxNode, LinearLayer> layers, LinearLayer seed,
        int degree, Func<LinearLayer, bool> isFree, out string reason)
    {
        var columns = new List<LinearLayer> { seed };
        while (true)
        {
            var pass = new ShardingPass(index, layers, degree, columns, isFree);
            var outcome = pass.Run();
            if (outcome.Region is { } region)
            {
                reason = string.Empty;
                return region;
            }

            if (outcome.NeededColumn is { } needed && !columns.Contains(needed) && isFree(needed) && columns.Count < MaxColumns)
            {
                columns.Add(needed);
                columns.Sort((a, b) => index.PositionOf(a.Node).CompareTo(index.PositionOf(b.Node)));
                continue;
            }

            reason = outcome.Failure ?? $"it would need {outcome.NeededColumn} split too, which is not possible";
            return null;
        }
    }
}
