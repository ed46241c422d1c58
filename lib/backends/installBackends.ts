/**
 * The backends fanout ships, installed for their effect: imported by the package entry and by
 * the entry modules of worker and process threads, never by the generic layers.
 */
import './local/installLocalBackend.js';
import './aws/installAwsBackend.js';
