"""What pages and the API show: availability for display, organizer figures, order lists, exports, the chart."""
