// The shared constants live in support/ (bench/ and scripts/ use them too); tests keep this path.
export * from '../../support/fixtures.ts';
