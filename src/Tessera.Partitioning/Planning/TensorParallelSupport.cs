namespace Tessera.Partitioning.Planning;

/// <summary>
/// Which tensor-parallel candidates can be written as plans. The rewrite (Partitioning/TensorParallel) splits
/// standard MatMul/Gemm layers; pipeline stages are cut from the optimised graph, whose products are already fused
/// (com.tessera FusedMatMul/FusedGemm), so tensor parallelism is planned for whole models only (P = 1).
/// </summary>
internal static class TensorParallelSupport
{
    public const string InsideStages = "tensor parallel inside pipeline stages is not supported (stages hold fused products the rewrite does not split)";

    public static string? Refusal(int stages, int degree) => degree > 1 && stages > 1 ? InsideStages : null;
}
