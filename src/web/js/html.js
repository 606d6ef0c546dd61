// htm turns tagged template literals into preact vnodes: JSX without a build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
