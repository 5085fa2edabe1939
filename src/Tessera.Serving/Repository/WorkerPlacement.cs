namespace Tessera.Serving.Repository;

/// <summary>
/// Which workers each model of a repository runs on (task parallelism: models side by side on their own workers).
/// A config's "workers" gives explicit indices or a count; models that give neither split the remaining workers
/// evenly, in the order given (callers put ensemble members first, so they land on distinct workers). When there
/// are fewer workers left than such models, they take one worker each in turn and share.
/// </summary>
internal static class WorkerPlacement
{
    public static Dictionary<string, int[]> Assign(IReadOnlyList<(string Name, ModelConfig Config)> models, int workers)
    {
        var placed = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var taken = new HashSet<int>();
        foreach (var (name, config) in models)
        {
            if (config.WorkerIndices is { } indices)
            {
                int missing = indices.FirstOrDefault(i => i >= workers, -1);
                if (missing >= 0)
                {
                    throw new InvalidDataException($"model '{name}': worker {missing} does not exist; the server has workers 0 to {workers - 1}");
                }

                placed[name] = indices;
                taken.UnionWith(indices);
            }
        }

        if (workers == 0)
        {
            // No worker yet (a DNS name with no address, joins awaited): every model waits for the ones that come.
            foreach (var (name, config) in models.Where(m => m.Config.WorkerIndices is null)) placed[name] = [];
            return placed;
        }

        // Counted and default models share what explicit placements left (everything, when they took it all).
        var free = Enumerable.Range(0, workers).Where(i => !taken.Contains(i)).ToList();
        if (free.Count == 0)
        {
            free = [.. Enumerable.Range(0, workers)];
        }

        int next = 0;
        foreach (var (name, config) in models.Where(m => m.Config.WorkerIndices is null && m.Config.WorkerCount > 0))
        {
            int count = config.WorkerCount;
            if (count > workers)
            {
                throw new InvalidDataException($"model '{name}' asks for {count} workers; the server has {workers}");
            }

            var pool = count <= free.Count ? free : [.. Enumerable.Range(0, workers)];
            placed[name] = [.. Enumerable.Range(next, count).Select(k => pool[k % pool.Count]).Order()];
            next += count;
        }

        var rest = next < free.Count ? free[next..] : free;
        var even = models.Where(m => m.Config.WorkerIndices is null && m.Config.WorkerCount == 0).Select(m => m.Name).ToArray();
        for (int m = 0, start = 0; m < even.Length; m++)
        {
            if (rest.Count < even.Length)
            {
                placed[even[m]] = [rest[m % rest.Count]];
                continue;
            }

            // Largest remainder: the first (rest % models) models get one worker more.
            int count = (rest.Count / even.Length) + (m < rest.Count % even.Length ? 1 : 0);
            placed[even[m]] = [.. rest.GetRange(start, count)];
            start += count;
        }

        return placed;
    }
}
