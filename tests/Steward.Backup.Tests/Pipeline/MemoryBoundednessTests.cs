using System.Diagnostics;
using Steward.Backup.Filters.Age;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Pipeline;

[CollectionDefinition(nameof(MemoryBoundednessTests), DisableParallelization = true)]
public sealed class MemoryCollection;

[Collection(nameof(MemoryBoundednessTests))]
public sealed class MemoryBoundednessTests
{
    private const long DataSize = 512L * 1024 * 1024;
    private const long Bound = 64L * 1024 * 1024;

    [Fact]
    public async Task Streaming_512_MB_through_zstd_and_age_keeps_memory_growth_bounded()
    {
        var source = new RepeatingSource(DataSize);
        var pipeline = Workflows.Backup(source, new NullStorage(), "zstd+age", AgeIdentity.Generate().Recipient);
        // Retained managed memory: the heap as the latest collection left it. Garbage not collected yet is no growth
        // (how much of it piles up between collections depends on the machine's gen0 budget: 69 MiB was seen on
        // CI's machine while nothing was retained); the working-set bound below still counts it.
        GC.GetTotalMemory(forceFullCollection: true);
        var baselineManaged = GC.GetGCMemoryInfo().HeapSizeBytes;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var baselineWorkingSet = self.WorkingSet64;
        long peakManaged = 0;
        long peakWorkingSet = 0;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peakManaged = Math.Max(peakManaged, GC.GetGCMemoryInfo().HeapSizeBytes - baselineManaged);
                self.Refresh();
                peakWorkingSet = Math.Max(peakWorkingSet, self.WorkingSet64 - baselineWorkingSet);
                await Task.Delay(20);
            }
        });
        var collectionsBefore = GC.CollectionCount(0);
        var result = await pipeline.RunAsync(Workflows.Request());

        await done.CancelAsync();
        await sampler;
        result.Succeeded.ShouldBeTrue(result.Failure?.Message);
        result.PlaintextBytes.ShouldBe(DataSize);
        GC.CollectionCount(0).ShouldBeGreaterThan(collectionsBefore, "the run collected at least once, so the heap after a collection was seen during it");
        peakManaged.ShouldBeLessThan(Bound, $"managed heap retained {peakManaged / 1048576} MiB more");
        peakWorkingSet.ShouldBeLessThan(2 * Bound, $"working set grew by {peakWorkingSet / 1048576} MiB");
    }
}
