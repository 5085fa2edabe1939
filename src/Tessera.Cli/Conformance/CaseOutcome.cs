namespace Tessera.Cli.Conformance;

public enum CaseOutcome
{
    Passed,
    Failed,
    Skipped,
}
