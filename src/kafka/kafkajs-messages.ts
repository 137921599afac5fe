// One send per batch across topics: the records of a batch grouped into kafkajs TopicMessages
// (kafkajs' sendBatch wants them per topic; @platformatic/kafka takes the flat list).
// Records without a topic (every event: the hot path) go to the sink's events topic without a map
// lookup; a map exists only when a batch holds a record for another topic (a dead letter).
import type { Message, TopicMessages } from 'kafkajs';
import type { OutRecord } from './api.ts';

export function topicMessagesOf(batches: readonly { readonly records: readonly OutRecord[] }[], eventsTopic: string): { topicMessages: TopicMessages[]; count: number } {
  const events: Message[] = [];
  let others: Map<string, Message[]> | undefined;
  let count = 0;
  for (const p of batches) {
    for (const r of p.records) {
      const m: Message = { key: r.key, value: r.value, headers: r.headers === undefined ? {} : { ...r.headers } };
      count++;
      if (r.topic === undefined || r.topic === eventsTopic) events.push(m);
      else {
        others ??= new Map();
        const list = others.get(r.topic);
        if (list === undefined) others.set(r.topic, [m]);
        else list.push(m);
      }
    }
  }
  const topicMessages: TopicMessages[] = events.length > 0 ? [{ topic: eventsTopic, messages: events }] : [];
  if (others !== undefined) for (const [topic, messages] of others) topicMessages.push({ topic, messages });
  return { topicMessages, count };
}
