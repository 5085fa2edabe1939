namespace Tessera.Cli.Conformance;

/// <summary>Result of one backend-test case: the outcome and a one-line reason for failures and skips.</summary>
public sealed record CaseResult(string Name, CaseOutcome Outcome, string Detail, double Seconds)
{
    /// <summary>The model's operator types (see <see cref="ModelOperators"/>); empty when the model could not be read.</summary>
    public IReadOnlyList<string> Operators { get; init; } = [];

    /// <summary>Every data set that ran, in order, including those after a failing one.</summary>
    public IReadOnlyList<DataSetResult> DataSets { get; init; } = [];

    /// <summary>Largest |got - expected| over all data sets and outputs; NaN when nothing was compared.</summary>
    public double MaxAbsDiff => Max(d => d.MaxAbsDiff);

    /// <summary>Largest relative difference over all data sets and outputs (see <see cref="DiffStats"/>).</summary>
    public double MaxRelDiff => Max(d => d.MaxRelDiff);

    public string Format() => Outcome switch
    {
        CaseOutcome.Passed => $"PASS {Name}",
        CaseOutcome.Failed => $"FAIL {Name}: {Detail}",
        _ => $"SKIP {Name}: {Detail}",
    };

    private double Max(Func<DataSetResult, double> pick)
    {
        double max = double.NaN;
        foreach (var dataSet in DataSets)
        {
            double value = pick(dataSet);
            if (!double.IsNaN(value) && (double.IsNaN(max) || value > max))
            {
                max = value;
            }
        }

        return max;
    }
}
