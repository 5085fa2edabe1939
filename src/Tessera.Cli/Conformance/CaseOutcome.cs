namespace Tessera.Cli.Conformance;

public enum CaseOutcome
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>Result of one backend-test case: the outcome and a one-line reason for failures and skips.</summary>
public sealed record CaseResult(string Name, CaseOutcome Outcome, string Detail, double Seconds)
{
    public string Format() => Outcome switch
    {
        CaseOutcome.Passed => $"PASS {Name}",
        CaseOutcome.Failed => $"FAIL {Name}: {Detail}",
        _ => $"SKIP {Name}: {Detail}",
    };
}
