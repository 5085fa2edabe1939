using System.Diagnostics;
using System.Globalization;
using Tessera.Fuzz;

// Tessera.Fuzz list | seeds TARGET DIR | replay TARGET FILE... | mutate TARGET [--runs N] [--seed S] [--findings DIR] | libfuzzer TARGET
// fuzz/run.sh is the way in; docs/fuzzing.md says what each target covers.
try
{
    return args switch
    {
        ["list"] => List(),
        ["seeds", var name, var dir] => WriteSeeds(name, dir),
        ["replay", var name, .. var files] => Replay(name, files),
        ["mutate", var name, .. var options] => Mutate(name, options),
        ["libfuzzer", var name] => LibFuzzer(name),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"tessera-fuzz: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Tessera.Fuzz list | seeds TARGET DIR | replay TARGET FILE... | mutate TARGET [--runs N] [--seed S] [--findings DIR] | libfuzzer TARGET");
    return 2;
}

static int List()
{
    foreach (string name in FuzzTargets.Names)
    {
        using var target = new OwnedTarget(name);
        Console.WriteLine($"{name,-12} {target.Value.Description}");
    }

    return 0;
}

static int WriteSeeds(string name, string dir)
{
    using var target = new OwnedTarget(name);
    Directory.CreateDirectory(dir);
    int count = 0;
    foreach (byte[] seed in target.Value.Seeds(SeedFiles.FromEnvironment()))
    {
        File.WriteAllBytes(Path.Combine(dir, $"seed-{count++:D4}"), seed);
    }

    Console.WriteLine($"{name}: {count} seeds in {dir}");
    return 0;
}

static int Replay(string name, string[] files)
{
    using var target = new OwnedTarget(name);
    int findings = 0;
    foreach (string file in files)
    {
        var outcome = FuzzCheck.Run(target.Value, File.ReadAllBytes(file));
        Console.WriteLine($"{file}: {outcome.Kind}{(outcome.Failure.Length > 0 ? ": " + outcome.Failure : string.Empty)}");
        findings += outcome.IsFinding ? 1 : 0;
    }

    return findings == 0 ? 0 : 1;
}

static int Mutate(string name, string[] options)
{
    long runs = 100_000;
    int seed = 1;
    string? findingsDir = null;
    for (int i = 0; i + 1 < options.Length; i += 2)
    {
        switch (options[i])
        {
            case "--runs": runs = long.Parse(options[i + 1], CultureInfo.InvariantCulture); break;
            case "--seed": seed = int.Parse(options[i + 1], CultureInfo.InvariantCulture); break;
            case "--findings": findingsDir = options[i + 1]; break;
            default: throw new ArgumentException($"unknown option '{options[i]}'");
        }
    }

    using var target = new OwnedTarget(name);
    var corpus = target.Value.Seeds(SeedFiles.FromEnvironment()).ToList();
    var run = new MutationRun(target.Value, TimeSpan.FromSeconds(1));
    var clock = Stopwatch.StartNew();
    var running = Task.Run(() => run.Run(corpus, runs, seed, r => Console.Error.Write($"\r{name}: {r.Inputs} inputs, {r.Parsed} parsed, {r.Findings.Count} findings, {r.Inputs / clock.Elapsed.TotalSeconds:0}/s   ")));
    // A watchdog for hangs: an input still running after a minute is saved and ends the run (the process cannot stop it).
    for (long seen = -1; !running.Wait(TimeSpan.FromSeconds(60)); seen = run.Inputs)
    {
        if (run.Inputs != seen) continue;
        Console.Error.WriteLine($"\n{name}: an input has run for over a minute (a hang): {Convert.ToHexString(run.Current)}");
        if (findingsDir is not null)
        {
            Directory.CreateDirectory(findingsDir);
            File.WriteAllBytes(Path.Combine(findingsDir, $"{name}-hang"), run.Current);
        }

        return 1;
    }

    Console.Error.WriteLine();
    Console.WriteLine($"{name}: {run.Inputs} inputs ({corpus.Count} seeds, {runs} mutated, seed {seed}) in {clock.Elapsed.TotalSeconds:0} s; {run.Parsed} parsed; slowest {run.Slowest.TotalMilliseconds:0} ms; {run.Findings.Count} findings");
    for (int i = 0; i < run.Findings.Count; i++)
    {
        var finding = run.Findings[i];
        Console.WriteLine($"finding {i}: {finding.Failure}");
        if (findingsDir is not null)
        {
            Directory.CreateDirectory(findingsDir);
            File.WriteAllBytes(Path.Combine(findingsDir, $"{name}-{i}"), finding.Input);
        }
    }

    return run.Findings.Count == 0 ? 0 : 1;
}

static int LibFuzzer(string name)
{
    if (!FuzzTargets.Names.Contains(name)) throw new ArgumentException($"unknown fuzz target '{name}' (one of {string.Join(", ", FuzzTargets.Names)})");
    LibFuzzerRun.Run(name);
    return 0;
}
