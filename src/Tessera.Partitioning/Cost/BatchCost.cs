namespace Tessera.Partitioning.Cost;

/// <summary>What runs of a (sub-)model at one batch size cost: how many were measured and their seconds per run.</summary>
public readonly record struct BatchCost(int Rows, int Runs, double SecondsPerRun)
{
    public double SecondsPerRow => SecondsPerRun / Rows;
}
