namespace Tessera.Cli.Conformance;

/// <summary>
/// How far a computed tensor is from the expected one. The relative difference is |got - expected| / |expected|
/// taken only over elements with |expected| &gt;= atol / rtol, where the relative tolerance is the larger term:
/// below that the absolute tolerance decides, and ratios to tiny values say nothing. So a tensor within
/// tolerance has MaxRel &lt;= ~rtol. Infinity when NaN or infinity meets a finite value.
/// </summary>
public readonly record struct DiffStats(double MaxAbs, double MaxRel)
{
    public static DiffStats None => new(double.NaN, double.NaN);

    /// <summary>The larger of each measure, ignoring NaN (nothing measured).</summary>
    public DiffStats Merge(DiffStats other) => new(Larger(MaxAbs, other.MaxAbs), Larger(MaxRel, other.MaxRel));

    private static double Larger(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);
}
