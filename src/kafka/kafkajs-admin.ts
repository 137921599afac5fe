// A kafkajs Admin seen through the client-neutral KafkaAdmin (api.ts). Type-only imports of
// kafkajs: this file is loaded with topics.ts by every client, and must not load kafkajs itself.
import type { Admin, ITopicConfig } from 'kafkajs';
import type { KafkaAdmin, PartitionState } from './api.ts';
import type { TopicSpec } from './topics.ts';

export function kafkajsAdmin(admin: Admin): KafkaAdmin {
  return {
    connect: () => admin.connect(),
    listTopics: () => admin.listTopics(),
    async createTopics(specs: readonly TopicSpec[]): Promise<void> {
      const topics: ITopicConfig[] = specs.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      }));
      try {
        await admin.createTopics({ topics, waitForLeaders: false });
      } catch (err) {
        // another replica created it meanwhile: fine; anything else is the caller's to judge
        const errs = (err as { errors?: { type?: string }[]; type?: string }).errors ?? [err as { type?: string }];
        if (errs.length > 0 && errs.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')) return;
        throw err;
      }
    },
    async partitions(names: readonly string[]): Promise<Map<string, PartitionState[]>> {
      const meta = await admin.fetchTopicMetadata({ topics: [...names] });
      const out = new Map<string, PartitionState[]>();
      for (const t of meta.topics) {
        out.set(t.name, t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, failed: p.partitionErrorCode !== 0 && p.partitionErrorCode !== undefined })));
      }
      return out;
    },
    async endOffsets(topic: string): Promise<number[]> {
      const offsets = await admin.fetchTopicOffsets(topic);
      const out: number[] = [];
      for (const p of offsets) out[p.partition] = Number(p.high);
      return out;
    },
    close: () => admin.disconnect(),
  };
}
