// The Kafka helpers live in support/ (the drills use them too); tests keep this path.
export * from '../../support/kafka.ts';
